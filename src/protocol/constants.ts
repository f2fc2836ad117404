// Protocol constants under the whitepaper's names (§6.1, §5.4).

/**
 * The whitepaper says 2^60, but that is above our REJECT_AFTER_MESSAGES, so
 * a session would stop sending before ever asking for a rekey by count.
 * Kept below it, with as much headroom as the 2^53 limit allows.
 */
export const REKEY_AFTER_MESSAGES = 2 ** 52;
/**
 * The whitepaper's limit is 2^64 - 2^13 - 1. JavaScript numbers are exact only
 * up to 2^53, so counters at or above 2^53 are refused instead; no real peer
 * reaches either limit, because sessions are rekeyed every two minutes.
 */
export const REJECT_AFTER_MESSAGES = 2 ** 53 - 1;
export const REKEY_AFTER_TIME = 120_000;
export const REJECT_AFTER_TIME = 180_000;
export const REKEY_ATTEMPT_TIME = 90_000;
export const REKEY_TIMEOUT = 5_000;
export const KEEPALIVE_TIMEOUT = 10_000;
export const COOKIE_SECRET_MAX_AGE = 120_000;
export const COOKIE_SECRET_LATENCY = 5_000;
/** Random extra delay added to each handshake retransmission (wireguard-go: up to 333 ms). */
export const REKEY_TIMEOUT_JITTER_MAX = 334;
export const MAX_TIMER_HANDSHAKES = REKEY_ATTEMPT_TIME / REKEY_TIMEOUT;
/** Initiations from one peer are accepted at most this often (kernel: INITIATIONS_PER_SECOND = 50). */
export const HANDSHAKE_INITIATION_RATE = 1000 / 50;

export const MESSAGE_INITIATION = 1;
export const MESSAGE_RESPONSE = 2;
export const MESSAGE_COOKIE_REPLY = 3;
export const MESSAGE_TRANSPORT = 4;

export const INITIATION_SIZE = 148;
export const RESPONSE_SIZE = 92;
export const COOKIE_REPLY_SIZE = 64;
export const TRANSPORT_HEADER_SIZE = 16;
export const TRANSPORT_MIN_SIZE = 32;
/** Transport plaintext is zero-padded to a multiple of this. */
export const PADDING_MULTIPLE = 16;

/** Packets queued per peer while a handshake is under way (wireguard-go: 1024, kernel: 1024). */
export const MAX_STAGED_PACKETS = 128;
