import js from "@eslint/js";
import simpleImportSort from "eslint-plugin-simple-import-sort";
import globals from "globals";
import tseslint from "typescript-eslint";

// The CLI, the composition root, the edges and the services: what composes the pipeline's steps.
const ABOVE_THE_PIPELINE = [
  "**/cli.js",
  "**/main.js",
  "**/resolvers/**",
  "**/http/**",
  "**/ops/**",
  "**/services/**",
];

export default tseslint.config(
  { ignores: ["node_modules", "dist", "data", "web/dist", "test-results", "coverage"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Import order is checked, not argued about: sorted groups, fixed by `eslint --fix`.
    plugins: { "simple-import-sort": simpleImportSort },
    rules: { "simple-import-sort/imports": "error", "simple-import-sort/exports": "error" },
  },
  {
    rules: {
      // Decorated classes must stay value imports for type-graphql's reflection, so the
      // fixer is told to leave imports that carry decorators' metadata alone.
      "@typescript-eslint/consistent-type-imports": ["error", { disallowTypeAnnotations: false }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // Plain JavaScript entry points and scripts run on Node.
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: globals.node },
  },
  {
    // Layers (DESIGN.md, "Where things live"): data flows from the edge (CLI, resolvers, REST)
    // through the pipeline's steps to the adapters. Nothing imports the CLI, the top of it all,
    // and only the CLI imports the composition root (main.ts) that it starts.
    files: ["src/**/*.ts"],
    ignores: ["src/cli.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/cli.js"],
              message: "Nothing imports the CLI: move what you need out of src/cli.ts.",
            },
            {
              group: ["**/main.js"],
              message: "Only the CLI imports the composition root: import the module itself.",
            },
          ],
        },
      ],
    },
  },
  {
    // The adapters and shared machinery below the pipeline never import a step, the composition
    // root or an edge. The registry is the exception: it is the table of stage names every list
    // derives from, and loads the steps' code lazily. Metrics are not listed: a scrape is an
    // edge like a resolver, and reads through the steps' query modules as one does.
    files: [
      "src/db/**",
      "src/domain/**",
      "src/streams/**",
      "src/nlp/**",
      "src/vector/**",
      "src/mcp/**",
      "src/observability/logger.ts",
      "src/observability/tracing.ts",
      "src/subscriptions/**",
      "src/workers/runtime/**",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/pipeline/**", "!**/pipeline/registry.js"],
              message:
                "A lower layer does not import a pipeline step (only the stage registry's names).",
            },
            {
              group: ABOVE_THE_PIPELINE,
              message:
                "A lower layer does not import the CLI, the composition root, the edges or the services.",
            },
          ],
        },
      ],
    },
  },
  {
    // The pipeline's steps sit under the edges and the services that compose them for the API:
    // a step never imports them back (what a step needs lives in src/pipeline or below).
    files: ["src/pipeline/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ABOVE_THE_PIPELINE,
              message:
                "A pipeline step does not import the CLI, the composition root, the edges or the services.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/schema/**", "src/resolvers/**"],
    rules: { "@typescript-eslint/consistent-type-imports": "off" },
  },
);
