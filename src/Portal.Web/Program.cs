using Portal.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddPortalWeb();

var app = builder.Build();
app.UsePortalWeb();
app.Run();

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
