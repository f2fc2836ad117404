// wgts as a library.
export { Device, DEFAULT_MTU } from './device/device.js';
export type { DeviceOptions, DeviceStats } from './device/device.js';
export type { Peer } from './device/peer.js';
export type { Clock, Endpoint, Logger, LogLevel, RandomSource } from './platform/platform.js';
export { createNodeTunnel, nodeClock, nodeRandom, consoleLogger } from './platform/node.js';
export type { NodeTunnel, NodeTunnelOptions } from './platform/node.js';
export { parseUapiSet, formatUapiGet, UapiSession } from './control/uapi.js';
export { parseWgConf, wgConfigToChange, formatWgConf } from './control/wgconf.js';
export type { DeviceChange, PeerChange, DeviceStatus, PeerStatus, ConfigTarget } from './control/config.js';
export { generatePrivateKey, publicKeyFromPrivate } from './crypto/keys.js';
export { toBase64, keyFromBase64, toHex, fromHex } from './crypto/encoding.js';
