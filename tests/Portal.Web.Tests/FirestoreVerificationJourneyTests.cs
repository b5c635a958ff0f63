
namespace Portal.Web.Tests;

/// <summary>Every verification journey again, with all state in the Firestore emulator (a project per test).</summary>
[Collection(FirestoreCollection.Name)]
public sealed class FirestoreVerificationJourneyTests(FirestoreEmulatorProcess firestore)
    : VerificationJourneyTests(host => host.UseFirestore(firestore.Host, FirestoreEmulatorProcess.NewProjectId()));
