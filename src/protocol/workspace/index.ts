/** Workspace protocol v1 (REST + WSS), shared by the reference server, the gateway and the webviews. */
export * from './common';
export * from './models';
export * from './keyBlob';
export * from './events';
export * from './rest';
export * from './frames';
export * from './routes';
