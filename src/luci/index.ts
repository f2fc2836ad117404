// Entry of the browser resource luci-static/resources/wgts/lib.js (built by
// build/luci.mjs into a LuCI class module): what the wgts views need that
// LuCI itself does not provide.
export { checkAllowedIp, checkEndpointHost, checkFwmark, checkInterfaceAddress, checkKeepalive, checkKey, checkMtu, checkPort } from './validate.js';
export { generateKeyPair, generatePsk, publicKeyOf } from './keys.js';
export { clientAddresses, clientConfig, clientConfigFileName, formatEndpointHostPort } from './client-config.js';
export { formatAgo, formatBytes, formatRate } from './format.js';
export { qrSvg } from './qr.js';
