// Replaced at build time from package.json.
export const VERSION: string = typeof __WGTS_VERSION__ === 'string' ? __WGTS_VERSION__ : '0.0.0-dev';
declare const __WGTS_VERSION__: string | undefined;
