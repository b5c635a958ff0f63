namespace Portal.Web.Tests;

/// <summary>One default portal (SQLite, embedded emulator) shared by the tests of a class: <c>IClassFixture&lt;PortalHostFixture&gt;</c>.</summary>
public sealed class PortalHostFixture : IAsyncLifetime
{
    public PortalTestHost Portal { get; } = new();

    public Task InitializeAsync() => Portal.InitializeAsync();

    public Task DisposeAsync() => Portal.DisposeAsync();
}
