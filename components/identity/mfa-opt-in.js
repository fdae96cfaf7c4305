// Auth0 post-login Action behind `auth0.mfa.policy: optional`, uploaded unchanged as the
// Action's code for the node22 runtime. The tenant's Guardian policy is then `never`, so
// Auth0 asks nobody for a second factor by itself; this Action decides who is asked:
//
// - a user who has enrolled a factor, at every login: once someone opts in, a stolen
//   password alone no longer signs them in;
// - anyone whose login the app started with
//   acr_values=http://schemas.openid.net/pape/policies/2007/06/multi-factor, enrolling first
//   when they have no factor yet: that is how the app turns MFA on for a user ("set up
//   two-step sign-in") and how it steps up before a sensitive page;
// - nobody else: they sign in with the first factor alone.
//
// It asks nothing when the session has already passed MFA (silent authentication must not
// need a prompt), nor on a refresh-token exchange, where Auth0 cannot show one and would
// fail the exchange.
//
// Plain JavaScript with no require and no globals beyond `exports`: Auth0 runs it as-is, and
// test/unit/mfa-opt-in.test.ts evaluates it in an empty VM context to prove that.

const MFA_ACR = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

/**
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  const transaction = (event && event.transaction) || {};
  if (transaction.protocol === "oauth2-refresh-token") return;

  // event.authentication is documented as optional; its methods say what this session has passed.
  const methods = (event && event.authentication && event.authentication.methods) || [];
  if (Array.isArray(methods) && methods.some((method) => method && method.name === "mfa")) return;

  const user = (event && event.user) || {};
  const enrolled = Array.isArray(user.multifactor) && user.multifactor.length > 0;
  const requested = Array.isArray(transaction.acr_values) && transaction.acr_values.includes(MFA_ACR);
  if (!enrolled && !requested) return;

  // "any": the user picks among the factors the tenant enables (auth0.mfa.factors). Not
  // remembering the browser keeps "every login" true on a shared computer.
  api.multifactor.enable("any", { allowRememberBrowser: false });
};
