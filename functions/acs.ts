// Placeholder until the handler lands.
export const handler = async () => ({ statusCode: 501, body: '' });
