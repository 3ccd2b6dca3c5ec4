package local.sonet.fhir;

import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code sonet.fhir.*}: the tenants (one partition each) and the HTTP Basic users, written by
 * infra/local/fhir.sh from infra/local/hospitals/hospitals.json into .local/state/fhir/fhir.properties.
 */
@ConfigurationProperties(prefix = "sonet.fhir")
public class SonetFhirProperties {

	private List<Tenant> tenants = new ArrayList<>();
	private List<User> users = new ArrayList<>();

	public List<Tenant> getTenants() {
		return tenants;
	}

	public void setTenants(List<Tenant> tenants) {
		this.tenants = tenants;
	}

	public List<User> getUsers() {
		return users;
	}

	public void setUsers(List<User> users) {
		this.users = users;
	}

	public static class Tenant {
		/** Tenant = partition name, the trust's ODS code. */
		private String id;
		/** Preferred partition id (stable across restarts once created). */
		private Integer partitionId;
		/** Trust name, stored as the partition description. */
		private String name;

		public String getId() {
			return id;
		}

		public void setId(String id) {
			this.id = id;
		}

		public Integer getPartitionId() {
			return partitionId;
		}

		public void setPartitionId(Integer partitionId) {
			this.partitionId = partitionId;
		}

		public String getName() {
			return name;
		}

		public void setName(String name) {
			this.name = name;
		}
	}

	public static class User {
		private String username;
		private String password;
		private String tenant;

		public String getUsername() {
			return username;
		}

		public void setUsername(String username) {
			this.username = username;
		}

		public String getPassword() {
			return password;
		}

		public void setPassword(String password) {
			this.password = password;
		}

		public String getTenant() {
			return tenant;
		}

		public void setTenant(String tenant) {
			this.tenant = tenant;
		}
	}
}
