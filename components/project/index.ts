import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { componentType } from "../common/names";

export interface ProjectArgs {
  stack: string;
  production: boolean;
  /** DO resource URNs (`do:droplet:123`), as each resource's `*Urn` output gives them. */
  resources: pulumi.Input<string>[];
}

/** Groups the stack's DigitalOcean resources in the control panel and billing. */
export class Project extends pulumi.ComponentResource {
  readonly project: digitalocean.Project;

  constructor(name: string, args: ProjectArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Project"), name, {}, opts);
    this.project = new digitalocean.Project(
      `${name}-project`,
      {
        name,
        description: `dropstack ${args.stack}`,
        purpose: "Web Application",
        environment: args.production ? "Production" : "Staging",
        resources: args.resources,
      },
      { parent: this },
    );
    this.registerOutputs({ projectId: this.project.id });
  }
}
