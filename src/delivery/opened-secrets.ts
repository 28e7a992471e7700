/**
 * Webhook signing secrets, opened from their sealed form (AES-GCM, `domain/secret-box.ts`) where the request is built —
 * on the main thread — and handed to the sender in the clear, which only computes the HMAC. In the wide fan-out bench
 * (10 000 webhooks, each secret opened once) opening them was about a tenth of the sender thread's time per call
 * (16 µs of 168), and the sender thread is what runs out first there; the main thread had room to spare.
 */
import type { SecretBox } from '../domain/secret-box.js';

/** Opened secrets kept at most; a webhook's rotation seals a new value, so a stale entry is never used. */
const MAX_OPENED = 10_000;

export class OpenedSecrets {
  private readonly opened = new Map<string, string>();

  constructor(private readonly box: SecretBox) {}

  /** The secrets in the clear, in the order given. Throws when one cannot be opened (another key, a damaged row). */
  open(sealed: readonly string[]): string[] {
    return sealed.map((s) => this.openOne(s));
  }

  private openOne(sealed: string): string {
    let plain = this.opened.get(sealed);
    if (plain === undefined) {
      plain = this.box.open(sealed);
      if (this.opened.size >= MAX_OPENED) this.opened.clear();
      this.opened.set(sealed, plain);
    }
    return plain;
  }
}
