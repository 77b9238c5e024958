/**
 * How a request parser refuses a command: SF_CONTRACT_INVALID naming the field and the reason,
 * in the message and in `details.errors`, the shape every 400 of the API carries.
 */
import { StreamForgeError } from '../errors.ts';

export function invalidField(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, {
    details: { errors: [{ field, reason }] },
  });
}

/** A value as a message shows it: JSON, cut short (a refused value may be large). */
export const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
};
