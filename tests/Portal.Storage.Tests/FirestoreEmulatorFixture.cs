using Portal.Storage.Firestore;
using Portal.Testing;

namespace Portal.Storage.Tests;

/// <summary>The Firestore emulator (see <see cref="FirestoreEmulatorProcess"/>) with clients and stores on it.</summary>
public sealed class FirestoreEmulatorFixture : IAsyncLifetime
{
    private readonly FirestoreEmulatorProcess _emulator = new();

    public string Host => _emulator.Host;

    /// <summary>A project id of its own: the emulator keeps every project's data apart.</summary>
    public static string NewProjectId() => FirestoreEmulatorProcess.NewProjectId();

    internal FirestoreRestClient CreateClient(string projectId)
    {
        var target = new FirestoreTarget(projectId, "(default)", Host);
        var http = new HttpClient(new FirestoreAuthHandler(target) { InnerHandler = new SocketsHttpHandler() })
        {
            BaseAddress = target.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        return new FirestoreRestClient(http, target);
    }

    internal FirestoreDocumentStore CreateStore(string projectId, TimeProvider clock) => new(CreateClient(projectId), clock);

    public Task InitializeAsync() => _emulator.InitializeAsync();

    public Task DisposeAsync() => _emulator.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class FirestoreEmulatorCollection : ICollectionFixture<FirestoreEmulatorFixture>
{
    public const string Name = "Firestore emulator";
}
