export { Http1ParseError } from './errors';
export { keepAlive, requestFraming, responseFraming, type Framing, type HeaderRecord, type RequestHead, type ResponseHead } from './head';
export { RequestParser, ResponseParser, type Http1Limits, type ParserSink } from './parser';
export { encodeChunk, InvalidHeaderError, LAST_CHUNK, lastChunkWithTrailers, serializeHead, type OutgoingHeaders } from './serialize';
export { ClientConnection, Http1Pool, takeWholeBody, UPSTREAM_LIMITS, type ClientRequestSpec, type ClientResponse, type OpenConnection, type ResponseHandler } from './client';
export { Http1Request, Http1Server, type Http1RequestListener, type Http1ServerOptions } from './server';
export { Http1Response } from './response';
