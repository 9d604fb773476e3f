// The rooms of src/ and the one direction their imports flow (docs/layout.md). `npm test` runs
// `depcruise src`: an import against these rules fails the run with the rule's name.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import the cruiser cannot resolve is an import it cannot judge.',
      from: { path: '^src' },
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle ties two rooms together: neither can be read or changed alone.',
      from: { path: '^src' },
      to: { circular: true },
    },
    {
      name: 'lib-is-the-floor',
      severity: 'error',
      comment: 'src/lib/ is below every room: it imports none of them.',
      from: { path: '^src/lib/' },
      to: { path: '^src/(?!lib/)' },
    },
    {
      name: 'keycloak-is-a-gateway',
      severity: 'error',
      comment: 'src/keycloak/ talks to Keycloak and decides nothing: it imports no room above it.',
      from: { path: '^src/keycloak/' },
      to: { path: '^src/(http|auth|routes|api-clients)/' },
    },
    {
      name: 'domain-below-http',
      severity: 'error',
      comment: 'The domain is used by the HTTP shell, never the other way (problem types live in src/lib/).',
      from: { path: '^src/api-clients/' },
      to: { path: '^src/(http|auth|routes)/' },
    },
    {
      name: 'routes-are-leaves',
      severity: 'error',
      comment: 'Nothing but the app registers routes.',
      from: { path: '^src/(?!app\\.ts|routes/)' },
      to: { path: '^src/routes/' },
    },
    {
      name: 'facade-on-top',
      severity: 'error',
      comment: "The domain's sub-rooms work for the facade (service.ts, plugin.ts), never call it.",
      from: { path: '^src/api-clients/[^/]+/' },
      to: { path: '^src/api-clients/(service|plugin)\\.ts$' },
    },
    {
      name: 'access-and-activity-at-the-bottom',
      severity: 'error',
      comment:
        'Who owns a client and what Keycloak remembers of it need nothing of how it is shaped or written.',
      from: { path: '^src/api-clients/(access|activity)/' },
      to: { path: '^src/api-clients/(resource|consistency|credentials)/' },
    },
    {
      name: 'resource-below-writes',
      severity: 'error',
      comment: 'The resource (schema, rules, mapping) is shaped without knowing how it is written.',
      from: { path: '^src/api-clients/resource/' },
      to: { path: '^src/api-clients/(consistency|credentials)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc', // TypeScript 7 has no JS API yet for dependency-cruiser's own TS parser
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.d\\.ts$' },
    // resolve packages as Node does for an ES module (typebox publishes only `exports`)
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
