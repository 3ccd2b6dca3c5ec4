package local.sonet.fhir;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/** GET /health: {"status":"UP","tenants":[...]} once the partitions exist, 503 STARTING before. No auth. */
public class HealthServlet extends HttpServlet {

	private final transient Readiness readiness;
	private final transient SonetFhirProperties properties;

	public HealthServlet(Readiness readiness, SonetFhirProperties properties) {
		this.readiness = readiness;
		this.properties = properties;
	}

	@Override
	protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
		boolean up = readiness.isReady();
		String tenants = properties.getTenants().stream()
				.map(t -> "\"" + t.getId() + "\"")
				.collect(Collectors.joining(","));
		resp.setStatus(up ? 200 : 503);
		resp.setContentType("application/json");
		resp.setCharacterEncoding("UTF-8");
		resp.setHeader("Cache-Control", "no-store");
		resp.getOutputStream()
				.write(("{\"status\":\"" + (up ? "UP" : "STARTING") + "\",\"tenants\":[" + tenants + "]}\n")
						.getBytes(StandardCharsets.UTF_8));
	}
}
