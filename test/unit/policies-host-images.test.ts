// Droplet policies at their edges. Image slugs: every Ubuntu LTS release on the day its
// standard support ends (still accepted, at any hour) and the day after (refused, naming the
// date, which this file states independently of the policy's table); slugs with text before
// or after the Ubuntu slug; an image that is not a slug string. The full messages a user reads
// for an unsupported image, a droplet outside the VPC and one without monitoring.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import { dropletImageProblem, dropletImageSupported, dropletPrivateAndMonitored } from "../../policies/host";
import { resourceViolations, typeOf } from "../support/policy";

const DROPLET = typeOf(digitalocean.Droplet);

// ubuntu.com/about/release-cycle: the end of standard support of each LTS release.
const END_OF_STANDARD_SUPPORT: [release: string, end: string][] = [
  ["16-04", "2021-04-30"],
  ["18-04", "2023-05-31"],
  ["20-04", "2025-05-31"],
  ["22-04", "2027-04-30"],
  ["24-04", "2029-04-30"],
  ["26-04", "2031-04-30"],
];

const dayAfter = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000);

describe("dropletImageProblem around the end of standard support", () => {
  it("accepts each LTS release through the last day of its standard support, at any hour", () => {
    for (const [release, end] of END_OF_STANDARD_SUPPORT) {
      for (const time of ["00:00:00.000", "12:00:00.000", "23:59:59.999"]) {
        assert.equal(dropletImageProblem(`ubuntu-${release}-x64`, new Date(`${end}T${time}Z`)), undefined, `${release} ${time}`);
      }
      assert.equal(dropletImageProblem(`ubuntu-${release}-x64`, new Date("2016-05-01T00:00:00Z")), undefined, release);
    }
  });

  it("refuses each LTS release from the next day, naming the date support ended", () => {
    for (const [release, end] of END_OF_STANDARD_SUPPORT) {
      const version = release.replace("-", ".");
      assert.equal(
        dropletImageProblem(`ubuntu-${release}-x64`, dayAfter(end)),
        `Ubuntu ${version} reached the end of standard support on ${end} and gets no more security updates`,
        release,
      );
    }
  });
});

describe("dropletImageProblem on slugs with text around the Ubuntu slug", () => {
  it("refuses a slug with anything before or after ubuntu-NN-NN-x64", () => {
    const today = new Date("2026-01-01T00:00:00Z");
    for (const image of [
      "xubuntu-24-04-x64",
      "my-ubuntu-24-04-x64",
      " ubuntu-24-04-x64",
      "snapshots/ubuntu-24-04-x64",
      "ubuntu-24-04-x64 ",
      "ubuntu-24-04-x64-gpu",
      "ubuntu-24-04-x64\n",
      "ubuntu-24-04-x64.img",
      "ubuntu-24-04-x64x",
    ]) {
      assert.equal(
        dropletImageProblem(image, today),
        `"${image}" is not an Ubuntu LTS image slug (ubuntu-24-04-x64); cloud-init and the hardening assume Ubuntu LTS`,
        JSON.stringify(image),
      );
    }
  });
});

describe("droplet-image-supported", () => {
  const droplet = (image: unknown) => ({ type: DROPLET, name: "web", props: { image } });

  it("says what is wrong with the image and how to replace the droplet", async () => {
    for (const [image, problem] of [
      ["ubuntu-23-10-x64", "Ubuntu 23.10 is not an LTS release, and interim releases lose security updates after nine months"],
      [
        "debian-12-x64",
        `"debian-12-x64" is not an Ubuntu LTS image slug (ubuntu-24-04-x64); cloud-init and the hardening assume Ubuntu LTS`,
      ],
    ]) {
      assert.deepEqual(await resourceViolations(dropletImageSupported, droplet(image)), [
        `${problem}: set dropstack:droplet.image to ubuntu-24-04-x64 (a new image replaces the droplet: see "Replacing the droplet" in docs/operations.md)`,
      ]);
    }
  });

  it("leaves a droplet whose image is not a slug string (unset, or a numeric image id) unjudged", async () => {
    for (const image of [undefined, null, 123456789]) {
      assert.deepEqual(await resourceViolations(dropletImageSupported, droplet(image)), [], String(image));
    }
  });
});

describe("droplet-in-vpc-with-monitoring messages", () => {
  it("says how to put the droplet in the VPC and turn monitoring on", async () => {
    const vpc = "the droplet is not in a VPC: set vpcUuid so the database is reached over the private network";
    const monitoring = "the droplet has monitoring off: set monitoring: true so CPU, memory and disk alerts work";
    for (const [props, expected] of [
      [{ monitoring: true }, [vpc]],
      [{ vpcUuid: "", monitoring: true }, [vpc]],
      [{ vpcUuid: "vpc-1" }, [monitoring]],
      [{ vpcUuid: "vpc-1", monitoring: "true" }, [monitoring]],
      [{}, [vpc, monitoring]],
    ] as const) {
      assert.deepEqual(await resourceViolations(dropletPrivateAndMonitored, { type: DROPLET, props }), expected, JSON.stringify(props));
    }
  });
});
