package local.sonet.fhir;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * HTTP Basic in front of /fhir/*: one user per trust, each limited to its own tenant.
 * <ul>
 *   <li>{@code GET /fhir/metadata} and {@code GET /fhir/<tenant>/metadata}: open (capability statement);</li>
 *   <li>no or wrong credentials: 401 with {@code WWW-Authenticate: Basic};</li>
 *   <li>valid credentials, but the first path segment is not the user's tenant: 403.</li>
 * </ul>
 * The caller's tenant is left in a request attribute for {@link TenantGuardPartitionInterceptor}.
 */
public class TenantAuthFilter extends HttpFilter {

	public static final String TENANT_ATTRIBUTE = TenantAuthFilter.class.getName() + ".tenant";
	private static final String REALM = "SONet local EHR";

	private final Readiness readiness;
	private final Map<String, SonetFhirProperties.User> users = new HashMap<>();
	private final Map<String, byte[]> passwordDigests = new HashMap<>();
	private final Set<String> tenants = new HashSet<>();

	public TenantAuthFilter(SonetFhirProperties properties, Readiness readiness) {
		this.readiness = readiness;
		properties.getTenants().forEach(t -> tenants.add(t.getId()));
		for (SonetFhirProperties.User u : properties.getUsers()) {
			if (u.getUsername() == null || u.getPassword() == null || u.getTenant() == null) {
				throw new IllegalStateException("sonet.fhir.users entries need username, password and tenant");
			}
			if (!tenants.contains(u.getTenant())) {
				throw new IllegalStateException(
						"user " + u.getUsername() + " names tenant " + u.getTenant() + ", which is not in sonet.fhir.tenants");
			}
			users.put(u.getUsername(), u);
			passwordDigests.put(u.getUsername(), sha256(u.getPassword()));
		}
		if (users.isEmpty()) {
			throw new IllegalStateException("no sonet.fhir.users configured: every FHIR request would be refused");
		}
	}

	@Override
	protected void doFilter(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
			throws IOException, ServletException {
		if (!readiness.isReady()) {
			deny(res, 503, "transient", "The EHR is starting; try again shortly");
			return;
		}
		String path = req.getRequestURI().substring(req.getContextPath().length());
		String rest = path.startsWith("/fhir") ? path.substring("/fhir".length()) : path;
		String[] segments = rest.split("/", -1); // "/RJ1/Patient" -> ["", "RJ1", "Patient"]
		String first = segments.length > 1 ? segments[1] : "";

		if (isOpenMetadata(req.getMethod(), segments)) {
			chain.doFilter(req, res);
			return;
		}

		SonetFhirProperties.User user = authenticate(req.getHeader("Authorization"));
		if (user == null) {
			res.setHeader("WWW-Authenticate", "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"");
			deny(res, 401, "login", "Authentication required: HTTP Basic with the trust's EHR credentials");
			return;
		}
		if (!user.getTenant().equals(first)) {
			deny(res, 403, "forbidden", "User '" + user.getUsername() + "' may only use tenant '" + user.getTenant()
					+ "' (/fhir/" + user.getTenant() + "/...)");
			return;
		}
		req.setAttribute(TENANT_ATTRIBUTE, user.getTenant());
		chain.doFilter(req, res);
	}

	private boolean isOpenMetadata(String method, String[] segments) {
		if (!"GET".equals(method) && !"HEAD".equals(method)) {
			return false;
		}
		// "/metadata" or "/<known tenant>/metadata"
		if (segments.length == 2 && segments[1].equals("metadata")) {
			return true;
		}
		return segments.length == 3 && tenants.contains(segments[1]) && segments[2].equals("metadata");
	}

	private SonetFhirProperties.User authenticate(String header) {
		if (header == null || header.length() < 6 || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
			return null;
		}
		String decoded;
		try {
			decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
		} catch (IllegalArgumentException e) {
			return null;
		}
		int colon = decoded.indexOf(':');
		if (colon < 0) {
			return null;
		}
		String username = decoded.substring(0, colon);
		byte[] given = sha256(decoded.substring(colon + 1));
		byte[] expected = passwordDigests.get(username);
		// compare digests in constant time; unknown users still pay one comparison
		boolean ok = MessageDigest.isEqual(given, expected != null ? expected : sha256("\u0000unknown"));
		return ok && expected != null ? users.get(username) : null;
	}

	private static byte[] sha256(String s) {
		try {
			return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}

	private static void deny(HttpServletResponse res, int status, String code, String message) throws IOException {
		res.setStatus(status);
		res.setContentType("application/fhir+json");
		res.setCharacterEncoding("UTF-8");
		String body = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"" + code
				+ "\",\"diagnostics\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}]}\n";
		res.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
	}
}
