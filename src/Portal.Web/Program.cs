using Portal.Web;
using Portal.Web.Platform;

WebApplicationBuilder? builder = null;
try
{
    builder = WebApplication.CreateBuilder(args);
    builder.AddPortalWeb();

    var app = builder.Build();
    app.UsePortalWeb();
    app.Run();
    return 0;
}
catch (Exception failure) when (StartupFailure.Handles(failure, builder?.Environment.EnvironmentName))
{
    // One structured entry naming the setting, then a non-zero exit: not the runtime's multi-line dump.
    return StartupFailure.Report(failure, builder?.Configuration, Console.Out);
}

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
