import Testing
@testable import MailCore

@Suite struct ProbeTests {
    @Test(arguments: ["relay.example.net:+25", "[10.0.0.5]:+25", "2001:db8::1", "[ipv6:1.2.3.4]", "[010.0.0.5]", "1.2.3.4.5", "[1.2.3.4.5]", "999.1.1.1", "[10.1]", "a@x.com\n", "fabrikam.com;+5", "\"abc@x.com", "a@1.2.3.4", "a@ab--cd.com"])
    func probe(input: String) {
        print("PROBE SmartHost", input.debugDescription, Result { try SmartHost(parsing: input) })
        print("PROBE Email", input.debugDescription, Result { try EmailAddress(parsing: input) })
        print("PROBE AS", input.debugDescription, Result { try AddressSpace(parsing: input) })
    }
}
