// The promotion rule, as a pure function: production ships only the image digest that
// staging last deployed and smoke-tested, unless someone overrides it on purpose.
import { imageDigest } from "../common/patterns";

/** The staging stack output that records the digest which passed the smoke test. */
export const PROMOTED_IMAGE_OUTPUT = "promotedImage";

export interface PromotionInput {
  productionImage: string;
  /** `undefined` when staging has never published the output. */
  promotedImage: string | undefined;
  stagingStack: string;
  allowUnpromoted: boolean;
}

export type PromotionVerdict = { ok: true; reason: string } | { ok: false; reason: string };

export function evaluatePromotion(input: PromotionInput): PromotionVerdict {
  const override = "set dropstack:promotion.allowUnpromoted to true to ship it anyway (say why in the change)";
  if (input.allowUnpromoted) {
    return { ok: true, reason: `promotion check skipped: dropstack:promotion.allowUnpromoted is true` };
  }
  const wanted = imageDigest(input.productionImage);
  if (!wanted) {
    return {
      ok: false,
      reason: `dropstack:app.image "${input.productionImage}" is not pinned by @sha256 digest, so it cannot be matched to what staging tested; ${override}`,
    };
  }
  if (input.promotedImage === undefined) {
    return {
      ok: false,
      reason: `stack ${input.stagingStack} has no "${PROMOTED_IMAGE_OUTPUT}" output: deploy and smoke-test the image on staging first, or ${override}`,
    };
  }
  const promoted = imageDigest(input.promotedImage);
  if (promoted !== wanted) {
    return {
      ok: false,
      reason: `dropstack:app.image ${wanted} is not the digest staging last deployed and smoke-tested (${input.stagingStack} promoted ${input.promotedImage}); deploy it to staging first, or ${override}`,
    };
  }
  return { ok: true, reason: `${wanted} passed staging (${input.stagingStack})` };
}
