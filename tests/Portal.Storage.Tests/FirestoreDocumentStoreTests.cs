namespace Portal.Storage.Tests;

/// <summary>The conformance suite on the Firestore emulator, each test in a project of its own; a second instance is a second client on the same project.</summary>
[Collection(FirestoreEmulatorCollection.Name)]
public sealed class FirestoreDocumentStoreTests(FirestoreEmulatorFixture emulator) : DocumentStoreConformance
{
    private readonly string _projectId = FirestoreEmulatorFixture.NewProjectId();

    protected override Task<IDocumentStore> CreateStoreAsync(TimeProvider clock) =>
        Task.FromResult<IDocumentStore>(emulator.CreateStore(_projectId, clock));

    protected override Task<IDocumentStore> CreateSecondInstanceAsync(TimeProvider clock) =>
        Task.FromResult<IDocumentStore>(emulator.CreateStore(_projectId, clock));
}
