/**
 * Signs a request where it is sent: on the sender thread when there is one. Opening a webhook's sealed secret
 * (AES-GCM) and the HMAC over the body cost about a tenth of the main thread's time per delivery in the wide fan-out
 * bench (every webhook's secret opened once), and the main thread is the one that runs out first. The caller passes
 * the sealed secrets, the delivery id and the timestamp; the signer adds the `webhook-signature` value.
 */
import { SecretBox } from '../domain/secret-box.js';
import { signPayload } from '../domain/signing.js';

export interface RequestSigning {
  /** The delivery id, sent as `webhook-id`: the same on every attempt. */
  msgId: string;
  /** Sent as `webhook-timestamp`. */
  timestampSec: number;
  /** The webhook's secrets as stored (sealed with the at-rest key): the current one, then one in its grace period. */
  sealedSecrets: string[];
}

/** Opened secrets kept at most; a webhook's rotation seals a new value, so a stale entry is never used. */
const MAX_OPENED = 10_000;

export class RequestSigner {
  private readonly box: SecretBox;
  private readonly opened = new Map<string, string>();

  /** `key`: the at-rest encryption key (a Uint8Array after crossing to a thread). */
  constructor(key: Uint8Array) {
    this.box = new SecretBox(Buffer.from(key));
  }

  /** The `webhook-signature` value for `body`. Throws when a secret cannot be opened or is not a valid secret. */
  sign(signing: RequestSigning, body: string): string {
    return signPayload(
      signing.sealedSecrets.map((s) => this.open(s)),
      signing.msgId,
      signing.timestampSec,
      body,
    );
  }

  private open(sealed: string): string {
    let plain = this.opened.get(sealed);
    if (plain === undefined) {
      plain = this.box.open(sealed);
      if (this.opened.size >= MAX_OPENED) this.opened.clear();
      this.opened.set(sealed, plain);
    }
    return plain;
  }
}
