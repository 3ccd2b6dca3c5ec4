// The raw Temporal baseline of the network benchmark: the cheapest workflows the server can run.
const { proxyActivities } = require('@temporalio/workflow');

const { nothing } = proxyActivities({ startToCloseTimeout: '10 seconds' });

/** Starts and completes: one workflow task. */
async function trivial() {}

/** One activity between start and completion. */
async function oneActivity() {
  await nothing();
}

module.exports = { trivial, oneActivity };
