import type { RetryBudgetOptions } from '../options.js';

/**
 * Retries a destination may still use, shared by every send to it: a bucket
 * of tokens, as the AWS SDK's retry quota. A retry takes some, a send that
 * works at the first try gives one back.
 */
export class RetryBudget {
  readonly #options: Required<RetryBudgetOptions>;
  #tokens: number;

  constructor(options: Required<RetryBudgetOptions>) {
    this.#options = options;
    this.#tokens = options.capacity;
  }

  /** Takes the tokens for one retry; false when the budget cannot pay for it. */
  take(afterTimeout: boolean): boolean {
    const cost = afterTimeout ? this.#options.timeoutCost : this.#options.retryCost;
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  refund(): void {
    this.#tokens = Math.min(this.#options.capacity, this.#tokens + this.#options.successRefund);
  }
}
