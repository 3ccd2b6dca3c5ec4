package local.sonet.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.interceptor.model.RequestPartitionId;
import ca.uhn.fhir.jpa.entity.PartitionEntity;
import ca.uhn.fhir.jpa.partition.IPartitionLookupSvc;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.server.IPreResourceShowDetails;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.interceptor.partition.RequestTenantPartitionInterceptor;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.annotation.Nonnull;
import java.util.Objects;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Lazy;

/**
 * HAPI's request-tenant partition interceptor (tenant from the URL = partition name) which also
 * refuses any partition other than the authenticated caller's. {@link TenantAuthFilter} already
 * compares the first path segment with the caller's tenant; these checks cover what HAPI derives
 * itself:
 * <ul>
 *   <li>the partition of every request and sub-request, e.g. a batch entry whose URL names another
 *       tenant ("RTH/Patient?...") or the "_ALL" pseudo-tenant;</li>
 *   <li>the partition of every resource about to be returned, e.g. a page of another tenant's search
 *       fetched by its id ({@code /fhir/RTH?_getpages=<id of an RJ1 search>}).</li>
 * </ul>
 * Internal (system) requests are not servlet requests and pass.
 */
@Interceptor
public class TenantGuardPartitionInterceptor extends RequestTenantPartitionInterceptor {

	@Autowired
	@Lazy
	private IPartitionLookupSvc myPartitionLookupSvc;

	@Nonnull
	@Override
	protected RequestPartitionId extractPartitionIdFromRequest(RequestDetails theRequestDetails) {
		if (theRequestDetails instanceof ServletRequestDetails servletDetails
				&& servletDetails.getServletRequest() != null) {
			Object allowed = servletDetails.getServletRequest().getAttribute(TenantAuthFilter.TENANT_ATTRIBUTE);
			String tenant = theRequestDetails.getTenantId();
			if (allowed == null || !Objects.equals(allowed, tenant)) {
				throw forbidden(tenant, allowed);
			}
		}
		return super.extractPartitionIdFromRequest(theRequestDetails);
	}

	@Hook(Pointcut.STORAGE_PRESHOW_RESOURCES)
	public void checkResourcesShown(IPreResourceShowDetails theDetails, RequestDetails theRequestDetails) {
		if (!(theRequestDetails instanceof ServletRequestDetails servletDetails)
				|| servletDetails.getServletRequest() == null) {
			return;
		}
		Object allowed = servletDetails.getServletRequest().getAttribute(TenantAuthFilter.TENANT_ATTRIBUTE);
		Integer allowedId = null;
		for (int i = 0; i < theDetails.size(); i++) {
			IBaseResource resource = theDetails.getResource(i);
			Object stored = resource == null ? null : resource.getUserData(Constants.RESOURCE_PARTITION_ID);
			if (!(stored instanceof RequestPartitionId partition) || !partition.hasPartitionIds()) {
				continue; // not a stored resource (e.g. the CapabilityStatement, an OperationOutcome)
			}
			if (allowed == null) {
				throw forbidden(theRequestDetails.getTenantId(), null);
			}
			if (allowedId == null) {
				PartitionEntity entity = myPartitionLookupSvc.getPartitionByName(allowed.toString());
				allowedId = entity == null ? Integer.MIN_VALUE : entity.getId();
			}
			if (!partition.hasPartitionId(allowedId)) {
				throw new ForbiddenOperationException(
						"These results belong to another tenant than '" + allowed + "', the one these credentials are for");
			}
		}
	}

	private static ForbiddenOperationException forbidden(String tenant, Object allowed) {
		return new ForbiddenOperationException("Tenant '" + tenant + "' is not accessible with these credentials"
				+ (allowed == null ? "" : " (they are for tenant '" + allowed + "')"));
	}
}
