/** The function's name: its telemetry producer, event source and page ledger. */
export const SERVICE = 'loader-producer';
