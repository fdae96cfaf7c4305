// Auth0 post-login Action, uploaded unchanged as the Action's code for the
// node22 runtime. It adds the user's roles to the ID token and the access token under the
// namespaced claim `<CLAIM_NAMESPACE>/roles`.
//
// Plain JavaScript with no require and no globals beyond `exports`: Auth0 runs it as-is, and
// test/unit/post-login.test.ts evaluates it in an empty VM context to prove that.
//
// When the CLAIM_NAMESPACE secret is missing or blank, no claim is set and the login goes
// on: an un-namespaced `roles` claim is one Auth0 rejects or strips, and a token without
// roles grants the least privilege, whereas denying the login would lock every user out
// over a deployment mistake. The Action log says why the roles are missing.

/**
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  const secrets = (event && event.secrets) || {};
  const configured = typeof secrets.CLAIM_NAMESPACE === "string" ? secrets.CLAIM_NAMESPACE : "";
  // A namespace given as `https://api.example.com/` must not yield `…com//roles`.
  const namespace = configured.trim().replace(/\/+$/, "");
  if (namespace === "") {
    console.log("dropstack post-login: the CLAIM_NAMESPACE secret is not set; no roles claim added");
    return;
  }

  // event.authorization is documented as optional.
  const authorization = event && event.authorization;
  const roles = authorization && Array.isArray(authorization.roles) ? authorization.roles.slice() : [];

  const claim = `${namespace}/roles`;
  api.idToken.setCustomClaim(claim, roles);
  api.accessToken.setCustomClaim(claim, roles);
};
