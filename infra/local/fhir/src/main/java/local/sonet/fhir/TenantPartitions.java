package local.sonet.fhir;

import ca.uhn.fhir.jpa.entity.PartitionEntity;
import ca.uhn.fhir.jpa.partition.IPartitionLookupSvc;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * At startup: one partition per tenant (name = tenant = ODS code), created if missing, idempotently.
 * A partition keeps the id it was created with; a new one gets its preferred id if free, else the next free id.
 * Then the server is marked ready (/health UP, /fhir open).
 */
@Component
public class TenantPartitions {

	private static final Logger ourLog = LoggerFactory.getLogger(TenantPartitions.class);

	private final IPartitionLookupSvc partitionLookupSvc;
	private final SonetFhirProperties properties;
	private final Readiness readiness;

	public TenantPartitions(IPartitionLookupSvc partitionLookupSvc, SonetFhirProperties properties, Readiness readiness) {
		this.partitionLookupSvc = partitionLookupSvc;
		this.properties = properties;
		this.readiness = readiness;
	}

	@EventListener(ApplicationReadyEvent.class)
	public void ensurePartitions() {
		if (properties.getTenants().isEmpty()) {
			throw new IllegalStateException("no sonet.fhir.tenants configured");
		}
		Map<String, PartitionEntity> byName = new HashMap<>();
		Set<Integer> usedIds = new HashSet<>();
		for (PartitionEntity p : partitionLookupSvc.listPartitions()) {
			byName.put(p.getName(), p);
			usedIds.add(p.getId());
		}
		int created = 0;
		for (SonetFhirProperties.Tenant tenant : properties.getTenants()) {
			if (byName.containsKey(tenant.getId())) {
				continue;
			}
			int id = tenant.getPartitionId() != null && !usedIds.contains(tenant.getPartitionId())
					? tenant.getPartitionId()
					: usedIds.stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
			PartitionEntity p = new PartitionEntity();
			p.setId(id);
			p.setName(tenant.getId());
			String description = tenant.getName() == null ? tenant.getId() : tenant.getName();
			p.setDescription(description.length() > PartitionEntity.MAX_DESC_LENGTH
					? description.substring(0, PartitionEntity.MAX_DESC_LENGTH)
					: description);
			partitionLookupSvc.createPartition(p, new SystemRequestDetails());
			usedIds.add(id);
			byName.put(p.getName(), p);
			created++;
		}
		if (created > 0) {
			partitionLookupSvc.invalidateCaches();
		}
		readiness.markReady();
		ourLog.info(
				"SONet local EHR ready: tenants {} ({} partition(s) created now)",
				properties.getTenants().stream()
						.map(t -> t.getId() + "=" + byName.get(t.getId()).getId())
						.collect(Collectors.joining(", ")),
				created);
	}
}
