from tests.fake_idp.idp import main

main()
