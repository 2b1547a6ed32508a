/** Workspace cloud protocol v1 (REST + WSS), shared by the reference server, the gateway and the webviews. */
// eslint-disable-next-line no-restricted-imports -- relative import inside src/protocol (see eslint pattern note in docs/cloud.md)
export * from './common';
// eslint-disable-next-line no-restricted-imports -- relative import inside src/protocol (see eslint pattern note in docs/cloud.md)
export * from './models';
// eslint-disable-next-line no-restricted-imports -- relative import inside src/protocol (see eslint pattern note in docs/cloud.md)
export * from './keyBlob';
// eslint-disable-next-line no-restricted-imports -- relative import inside src/protocol (see eslint pattern note in docs/cloud.md)
export * from './events';
// eslint-disable-next-line no-restricted-imports -- relative import inside src/protocol (see eslint pattern note in docs/cloud.md)
export * from './rest';
// eslint-disable-next-line no-restricted-imports -- relative import inside src/protocol (see eslint pattern note in docs/cloud.md)
export * from './frames';
// eslint-disable-next-line no-restricted-imports -- relative import inside src/protocol (see eslint pattern note in docs/cloud.md)
export * from './routes';
