package local.sonet.fhir;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Import;

/**
 * The demo region's EHR: HAPI FHIR R4 JPA server, one partition per trust, URL-based tenants
 * ({@code /fhir/<ODS code>/...}), HTTP Basic with one user per trust. Started by infra/local/fhir.sh,
 * which passes the users, tenants and database in a generated properties file.
 */
@SpringBootApplication(
		excludeName = {
			// HAPI runs its own Quartz scheduler; Boot's would be a second, idle one
			"org.springframework.boot.autoconfigure.quartz.QuartzAutoConfiguration",
			// Hibernate Search (and so its Elasticsearch client) is off
			"org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration",
			"org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchClientAutoConfiguration",
			// Thymeleaf is on the classpath for HAPI's narratives, not for web pages
			"org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration",
			// no Spring MVC: the FHIR endpoint is HAPI's RestfulServer servlet, /health a plain servlet
			"org.springframework.boot.autoconfigure.web.servlet.DispatcherServletAutoConfiguration",
			"org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration",
			"org.springframework.boot.autoconfigure.web.servlet.error.ErrorMvcAutoConfiguration",
			"org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration",
		})
@EnableConfigurationProperties(SonetFhirProperties.class)
@Import({
	JpaR4Config.class,
	HapiJpaConfig.class,
	ThreadPoolFactoryConfig.class,
	// provides IBrokerClient, which the JPA config needs even with no subscriptions in use
	SubscriptionChannelConfig.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
})
public class LocalFhirServer {

	public static void main(String[] args) {
		SpringApplication.run(LocalFhirServer.class, args);
	}
}
