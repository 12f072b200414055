/**
 * Errors of the WASM compute core. wasm/ stays standalone (it imports nothing from core/), so it
 * has its own class; core/ maps it to a ValidationError.
 *
 * @module
 */

/** Input the compute core refuses (unknown node id, bad weight, dimension mismatch, ...). */
export class CoreInputError extends Error {
  /**
   * @param message sentence-case message, detail after a colon, no trailing period
   */
  constructor(message: string) {
    super(message);
    this.name = "CoreInputError";
  }
}
