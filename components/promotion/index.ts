import * as pulumi from "@pulumi/pulumi";
import { PROMOTED_IMAGE_OUTPUT, evaluatePromotion } from "./evaluate";
import { componentType } from "../common/names";

export { PROMOTED_IMAGE_OUTPUT, evaluatePromotion } from "./evaluate";

export interface PromotionGuardArgs {
  /** The production image reference from config. */
  image: string;
  /** Fully qualified staging stack name, e.g. acme/dropstack/staging. */
  stagingStack: string;
  allowUnpromoted: boolean;
}

/** Thrown during preview when production would ship an image staging never passed. */
export class UnpromotedImageError extends pulumi.RunError {
  constructor(message: string) {
    super(`promotion guard: ${message}`);
    this.name = "UnpromotedImageError";
  }
}

/**
 * Reads staging's promoted digest by StackReference. `approvedImage` resolves to the
 * image only when the rule holds; everything that runs the image consumes it, so a
 * failed check stops the preview before any container, hook or migration is planned.
 */
export class PromotionGuard extends pulumi.ComponentResource {
  readonly approvedImage: pulumi.Output<string>;
  readonly verdict: pulumi.Output<string>;

  constructor(name: string, args: PromotionGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("PromotionGuard"), name, {}, opts);
    const staging = new pulumi.StackReference(`${name}-staging`, { name: args.stagingStack }, { parent: this });
    this.verdict = staging.getOutput(PROMOTED_IMAGE_OUTPUT).apply((promoted: unknown) => {
      const verdict = evaluatePromotion({
        productionImage: args.image,
        promotedImage: typeof promoted === "string" ? promoted : undefined,
        stagingStack: args.stagingStack,
        allowUnpromoted: args.allowUnpromoted,
      });
      if (!verdict.ok) throw new UnpromotedImageError(verdict.reason);
      return verdict.reason;
    });
    this.approvedImage = this.verdict.apply(() => args.image);
    this.registerOutputs({ verdict: this.verdict });
  }
}
