// Entry point of the workflow bundle: every workflow function the `second-opinion` task queue runs.
export { secondOpinionWorkflow } from './second-opinion.workflow';
