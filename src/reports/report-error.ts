/** Why a report could not be answered; the HTTP layer maps `code` to a status once (routes-reports.ts). */
export class ReportError extends Error {
  override name = 'ReportError';
  constructor(
    message: string,
    readonly code: 'unknown_report' | 'bad_parameter' | 'timeout' | 'preparing',
    /** bad_parameter: which one. */
    readonly parameter?: string,
  ) {
    super(message);
  }
}
