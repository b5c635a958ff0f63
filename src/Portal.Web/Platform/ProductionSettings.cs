using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Portal.Idp;

namespace Portal.Web.Platform;

/// <summary>Settings checked before the host is built, where a wrong one must stop start-up naming itself.</summary>
internal static class ProductionSettings
{
    /// <summary>The setting that names a JSON file of tenants (a Secret Manager volume on Cloud Run).</summary>
    public const string TenantsFileSetting = "Portal:TenantsFile";

    /// <summary>The explicit promise that only one instance runs, without which Production refuses SQLite.</summary>
    public const string SingleInstanceSetting = "Portal:Storage:Sqlite:SingleInstance";

    /// <summary>
    /// Cloud Run says which port to listen on in <c>PORT</c>. It is honoured as <c>ASPNETCORE_HTTP_PORTS</c>
    /// would be (an explicit <c>ASPNETCORE_URLS</c> still wins, as the framework decides).
    /// </summary>
    public static void HonourPort(WebApplicationBuilder builder, string? port)
    {
        if (string.IsNullOrWhiteSpace(port))
        {
            return;
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw new InvalidOperationException("PORT must be a port number (1-65535).");
        }

        builder.WebHost.UseSetting(WebHostDefaults.HttpPortsKey, number.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Tenants from a JSON file, <c>{ "Tenants": [ { "Id": ... } ] }</c>: group names with spaces
    /// cannot be environment-variable keys. The file replaces <c>Portal:Tenants</c> in settings; both at once is refused.
    /// </summary>
    public static void AddTenantsFile(ConfigurationManager configuration)
    {
        var path = configuration[TenantsFileSetting];
        if (string.IsNullOrWhiteSpace(path))
        {
            return;
        }

        if (configuration.GetSection("Portal:Tenants").GetChildren().Any())
        {
            throw new InvalidOperationException($"Portal:Tenants is set in settings and {TenantsFileSetting} names a tenants file: use one of them.");
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{TenantsFileSetting} names the file {path}, which cannot be read ({ex.GetType().Name}).", ex);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new InvalidOperationException($"{TenantsFileSetting} names the file {path}, which is not valid JSON (line {ex.LineNumber + 1}).", ex);
        }

        if (root is not JsonObject obj || obj["Tenants"] is not JsonArray)
        {
            throw new InvalidOperationException($"{TenantsFileSetting} names the file {path}, which must be a JSON object with a \"Tenants\" array.");
        }

        var wrapped = new JsonObject { ["Portal"] = new JsonObject { ["Tenants"] = obj["Tenants"]!.DeepClone() } };
        configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(wrapped.ToJsonString())));
    }

    public static void Check(IConfiguration configuration, IHostEnvironment environment)
    {
        foreach (var tenant in configuration.GetSection("Portal:Tenants").GetChildren())
        {
            var kind = tenant["Idp:Kind"];
            if (!string.IsNullOrEmpty(kind) && !(Enum.TryParse<IdpKind>(kind, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !char.IsAsciiDigit(kind.Trim()[0])))
            {
                throw new InvalidOperationException($"Portal:Tenants:{tenant.Key}:Idp:Kind is \"{kind}\": it must be Okta or Entra.");
            }
        }

        if (environment.IsDevelopment())
        {
            return;
        }

        var provider = configuration["Portal:Storage:Provider"];
        if ((string.IsNullOrEmpty(provider) || string.Equals(provider, "Sqlite", StringComparison.OrdinalIgnoreCase)) && !configuration.GetValue<bool>(SingleInstanceSetting))
        {
            throw new InvalidOperationException($"Portal:Storage:Provider is Sqlite outside Development: SQLite keeps sessions, keys and limits in one instance's file, so a second instance would not share them. Use Firestore, or set {SingleInstanceSetting}=true for a deployment that can only ever run one instance.");
        }

#if DEBUG
        if (environment.IsProduction())
        {
            throw new InvalidOperationException("This is a Debug build (it contains the IdP emulator) and ASPNETCORE_ENVIRONMENT is Production: run the Release build (dotnet publish -c Release).");
        }
#endif
    }
}
