using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage.DataProtection;

namespace Portal.Storage;

public static class PortalDataProtectionExtensions
{
    /// <summary>Keeps the Data Protection key ring in the portal's <see cref="IDocumentStore"/> (collection <c>dataProtectionKeys</c>), shared by every instance.</summary>
    public static IDataProtectionBuilder PersistKeysToPortalStore(this IDataProtectionBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, services) =>
            options.XmlRepository = new DocumentStoreXmlRepository(services.GetRequiredService<IDocumentStore>()));
        return builder;
    }
}
