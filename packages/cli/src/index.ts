/** The `streamforge` command's API client and views, for scripts and tests that drive a running stack. */
export { api } from './api-client.ts';
export type { WorkflowView } from './workflow-commands.ts';
