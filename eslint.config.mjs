// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  { ignores: ["node_modules/**", "**/node_modules/**", "out/**", ".stryker-tmp/**", "reports/**"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // An Output inside a template literal renders as a warning string, not its value:
    // the program and its components must use pulumi.interpolate or apply.
    files: ["index.ts", "components/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { pulumi },
    rules: {
      "pulumi/no-output-in-template-literal": "error",
      "pulumi/no-output-instance-in-template-literal": "error",
    },
  },
  {
    // Layers point one way (docs/design.md, "Layout"): tests import the program and the tools,
    // never the reverse. Harnesses that tools and tests share live in tools/lib/.
    files: ["index.ts", "components/**", "policies/**", "tools/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "(^|/)test/", message: "only tests import from test/; move what both need to tools/lib/ (docs/design.md, Layout)" },
          ],
        },
      ],
    },
  },
  {
    // The shared vocabulary depends on nothing in the repository, so every layer can import it.
    files: ["components/common/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [{ regex: "^\\.", message: "components/common imports nothing from the repository (docs/design.md, One vocabulary)" }],
        },
      ],
    },
  },
  {
    // CommonJS preloads (tools/fast-start.cjs): require is their import syntax.
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        exports: "writable",
        process: "readonly",
        console: "readonly",
        __dirname: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: {
      globals: { require: "readonly", module: "writable", exports: "writable", process: "readonly", console: "readonly", URL: "readonly" },
    },
  },
);
