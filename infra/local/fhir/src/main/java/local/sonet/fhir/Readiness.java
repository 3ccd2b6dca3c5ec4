package local.sonet.fhir;

/** Becomes ready once every tenant's partition exists; until then /health and /fhir answer 503. */
public class Readiness {

	private volatile boolean ready;

	public boolean isReady() {
		return ready;
	}

	void markReady() {
		ready = true;
	}
}
