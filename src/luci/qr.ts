// QR codes for the client configuration, drawn as SVG in the browser
// (@paulmillr/qr): the private key in it never leaves the page.
import encodeQR from '@paulmillr/qr';

/** An SVG image of `text` as a QR code, error correction "medium", with the standard 4-module quiet zone. */
export function qrSvg(text: string): string {
  return encodeQR(text, 'svg', { ecc: 'medium', border: 4 });
}
