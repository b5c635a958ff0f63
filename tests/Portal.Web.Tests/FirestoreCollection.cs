
namespace Portal.Web.Tests;

/// <summary>The test classes that keep the portal's state in the Firestore emulator share one emulator.</summary>
[CollectionDefinition(Name)]
public sealed class FirestoreCollection : ICollectionFixture<FirestoreEmulatorProcess>
{
    public const string Name = "Firestore emulator";
}
