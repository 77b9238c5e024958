/** The body of every refusal the API answers (the runtime's error body), as its routes declare it. */
export const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

/** The refusals a read-only route of the API can answer. */
export const errorResponses = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 503: errorSchema } as const;
