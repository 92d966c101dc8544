"""tensorcalc.frontends"""
