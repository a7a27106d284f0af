// Errors of the operator's API types.

export class QuantityFormatError extends Error {
  override name = 'QuantityFormatError';
  constructor(readonly text: string) {
    // The second half is the message of Kubernetes' ErrFormatWrong, which clients may match.
    super(`invalid quantity ${JSON.stringify(text)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  }
}
