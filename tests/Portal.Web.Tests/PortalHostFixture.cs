namespace Portal.Web.Tests;

/// <summary>One default portal (SQLite, embedded emulator) shared by the tests of a class: <c>IClassFixture&lt;PortalHostFixture&gt;</c>.</summary>
public sealed class PortalHostFixture : IAsyncLifetime
{
    public PortalTestHost Portal { get; } = new();

    public Task InitializeAsync() => Portal.InitializeAsync();

    public Task DisposeAsync() => Portal.DisposeAsync();
}

/// <summary>
/// One default portal keeping its state in the Firestore emulator (a project of its own), shared by the tests of a
/// class in <see cref="FirestoreCollection"/>: <c>IClassFixture&lt;FirestoreHostFixture&gt;</c>.
/// </summary>
public sealed class FirestoreHostFixture(FirestoreEmulatorProcess firestore) : IAsyncLifetime
{
    public PortalTestHost Portal { get; } = new PortalTestHost().UseFirestore(firestore.Host, FirestoreEmulatorProcess.NewProjectId());

    public Task InitializeAsync() => Portal.InitializeAsync();

    public Task DisposeAsync() => Portal.DisposeAsync();
}
