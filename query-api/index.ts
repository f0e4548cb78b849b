export { createHttpServer, registerQueryApi, MIN_POSITION_HEADER, type HttpSecurity, type HttpServerOptions, type PlatformStatus, type QueryApiDependencies } from './server.js';
export { problemErrorHandler, sendProblem, notFound, PROBLEM_CONTENT_TYPE, type Problem } from './problems.js';
