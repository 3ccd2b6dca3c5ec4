// Entry point of the records-transfer workflow bundle: workflow code only (no I/O, no Node built-ins).
export { recordsTransferWorkflow } from './records-transfer.workflow';
