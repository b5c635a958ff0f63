namespace Portal.Web.Tests;

/// <summary>
/// One default portal (SQLite, its own emulator) shared by the tests of a class: <c>IClassFixture&lt;PortalHostFixture&gt;</c>.
/// A class whose portal needs settings of its own derives a fixture and sets them in its constructor. The PII scan runs
/// when the class is done (a leak fails the class's clean-up).
/// </summary>
public class PortalHostFixture : IAsyncLifetime
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
