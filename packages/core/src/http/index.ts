export { startHttpServer } from './server';
export type { HttpMethod, HttpServerOptions, Route, RouteContext, RouteHandler, RunningHttpServer } from './server';
export { sendJson, sendText } from './responders';
