namespace Portal.Web.Tenancy;

/// <summary>Finds a tenant's settings. Callers pass the tenant id of the agent's authenticated session only.</summary>
public interface ITenantCatalog
{
    IReadOnlyList<TenantSettings> All { get; }

    TenantSettings? Find(string tenantId);

    /// <summary>The tenant whose agents use this e-mail domain, for the sign-in page.</summary>
    TenantSettings? FindByEmailDomain(string domain);
}
