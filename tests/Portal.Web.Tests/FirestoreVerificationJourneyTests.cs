
namespace Portal.Web.Tests;

/// <summary>Every verification journey again, with all state in the Firestore emulator (a project for the class).</summary>
[Collection(FirestoreCollection.Name)]
public sealed class FirestoreVerificationJourneyTests(FirestoreHostFixture fixture)
    : VerificationJourneys(fixture.Portal), IClassFixture<FirestoreHostFixture>;
