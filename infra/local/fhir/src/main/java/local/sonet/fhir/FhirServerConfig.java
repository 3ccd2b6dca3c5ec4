package local.sonet.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.model.entity.StorageSettings;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.tenant.UrlBaseTenantIdentificationStrategy;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import javax.sql.DataSource;
import org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy;
import org.hibernate.cfg.AvailableSettings;
import org.hibernate.search.mapper.orm.cfg.HibernateOrmMapperSettings;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.orm.jpa.JpaProperties;
import org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.core.Ordered;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

/** The JPA server's settings, persistence and the FHIR servlet with its tenant and auth guards. */
@Configuration
public class FhirServerConfig {

	@Bean
	public JpaStorageSettings jpaStorageSettings() {
		JpaStorageSettings s = new JpaStorageSettings();
		// PUT Patient/<id>, Binary/<id>: any id that is not purely numeric
		s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
		// a test EHR: a search right after a write must see it (HAPI reuses results for 60 s by default)
		s.setReuseCachedSearchResultsForMillis(null);
		s.setAllowMultipleDelete(true);
		s.setIndexMissingFields(StorageSettings.IndexEnabledEnum.DISABLED);
		s.setAutoCreatePlaceholderReferenceTargets(false);
		return s;
	}

	@Bean
	public PartitionSettings partitionSettings() {
		PartitionSettings p = new PartitionSettings();
		p.setPartitioningEnabled(true);
		p.setAllowReferencesAcrossPartitions(PartitionSettings.CrossPartitionReferenceMode.NOT_ALLOWED);
		// the same If-None-Exist in two partitions must create two resources (409 otherwise)
		p.setConditionalCreateDuplicateIdentifiersEnabled(true);
		return p;
	}

	@Bean
	public SubscriptionSettings subscriptionSettings() {
		return new SubscriptionSettings();
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			JpaProperties jpaProperties,
			DataSource dataSource,
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings) {
		LocalContainerEntityManagerFactoryBean emf =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		var props = jpaProperties.getProperties();
		props.putIfAbsent(AvailableSettings.SCANNER, "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		props.putIfAbsent(AvailableSettings.IMPLICIT_NAMING_STRATEGY, SpringImplicitNamingStrategy.class.getName());
		props.putIfAbsent(
				AvailableSettings.PHYSICAL_NAMING_STRATEGY, CamelCaseToUnderscoresNamingStrategy.class.getName());
		props.putIfAbsent(AvailableSettings.FORMAT_SQL, "false");
		props.putIfAbsent(AvailableSettings.SHOW_SQL, "false");
		props.putIfAbsent(AvailableSettings.HBM2DDL_AUTO, "update");
		props.putIfAbsent(AvailableSettings.STATEMENT_BATCH_SIZE, "20");
		props.putIfAbsent(AvailableSettings.USE_QUERY_CACHE, "false");
		props.putIfAbsent(AvailableSettings.USE_SECOND_LEVEL_CACHE, "false");
		props.putIfAbsent(AvailableSettings.USE_STRUCTURED_CACHE, "false");
		props.putIfAbsent(AvailableSettings.USE_MINIMAL_PUTS, "false");
		props.putIfAbsent(HibernateOrmMapperSettings.ENABLED, "false");
		emf.setPersistenceUnitName("HAPI_PU");
		emf.setJpaPropertyMap(props);
		emf.setDataSource(dataSource);
		return emf;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		JpaTransactionManager tm = new JpaTransactionManager();
		tm.setEntityManagerFactory(entityManagerFactory);
		return tm;
	}

	/** HAPI's tenant-to-partition interceptor, plus the check that the tenant is the caller's own. */
	@Bean
	public TenantGuardPartitionInterceptor tenantGuardPartitionInterceptor(PartitionSettings partitionSettings) {
		TenantGuardPartitionInterceptor interceptor = new TenantGuardPartitionInterceptor();
		interceptor.setPartitionSettings(partitionSettings);
		return interceptor;
	}

	@Bean
	public Readiness readiness() {
		return new Readiness();
	}

	@Bean
	public RestfulServer restfulServer(
			FhirContext fhirContext,
			IFhirSystemDao<?, ?> systemDao,
			IJpaSystemProvider systemProvider,
			ResourceProviderFactory resourceProviderFactory,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider,
			TenantGuardPartitionInterceptor tenantGuardPartitionInterceptor) {
		RestfulServer server = new RestfulServer(fhirContext);
		server.registerProviders(resourceProviderFactory.createProviders());
		server.registerProvider(systemProvider);
		JpaCapabilityStatementProvider capabilities = new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport);
		capabilities.setImplementationDescription("SONet local EHR: HAPI FHIR R4, one partition per trust");
		// counts would add up every tenant's resources
		capabilities.setIncludeResourceCounts(false);
		server.setServerConformanceProvider(capabilities);
		server.setPagingProvider(pagingProvider);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setDefaultPrettyPrint(true);
		server.setServerAddressStrategy(new IncomingRequestAddressStrategy());
		server.setTenantIdentificationStrategy(new UrlBaseTenantIdentificationStrategy());
		server.registerInterceptor(tenantGuardPartitionInterceptor);
		return server;
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer restfulServer) {
		ServletRegistrationBean<RestfulServer> reg = new ServletRegistrationBean<>(restfulServer, "/fhir/*");
		reg.setName("fhir");
		reg.setLoadOnStartup(1);
		return reg;
	}

	@Bean
	public FilterRegistrationBean<TenantAuthFilter> tenantAuthFilter(SonetFhirProperties properties, Readiness readiness) {
		FilterRegistrationBean<TenantAuthFilter> reg =
				new FilterRegistrationBean<>(new TenantAuthFilter(properties, readiness));
		reg.addUrlPatterns("/fhir/*");
		reg.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
		return reg;
	}

	@Bean
	public ServletRegistrationBean<HealthServlet> healthServlet(Readiness readiness, SonetFhirProperties properties) {
		ServletRegistrationBean<HealthServlet> reg =
				new ServletRegistrationBean<>(new HealthServlet(readiness, properties), "/health");
		reg.setName("health");
		return reg;
	}
}
